//! The sequential abstract machine. (being written)
