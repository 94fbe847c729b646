//! esl4j simulator of the FreeSWITCH event socket.
