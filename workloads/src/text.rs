//! The text trace format v1 (`.gct`): reader and writer. (being written)
