//! esl4j JNI glue.
