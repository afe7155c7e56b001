//! Pass 1: validation, escape analysis, dependencies. (being written)
use super::Analysis;
use crate::model::Trace;
use crate::Result;

pub(crate) fn run(_trace: &Trace) -> Result<Analysis> {
    todo!("pass 1")
}
