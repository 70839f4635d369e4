//! Sessions, runs, the durable inbound queue, transcripts and durable announces of child results.
