//! The binary trace format (`.gctb`): reader and writer. (being written)
