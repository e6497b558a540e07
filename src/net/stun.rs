//! STUN binding codec (RFC 8489). (Issue 3.)
