//! esl4j engine: FreeSWITCH Event Socket protocol and connections.
