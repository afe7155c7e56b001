//! The death-time oracle. (being written)
