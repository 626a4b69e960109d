//! The `.env` dialect: text to entries with positions.
