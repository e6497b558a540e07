//! `session-ready serve`: the self-hostable measurement endpoint. (Issue 3.)
