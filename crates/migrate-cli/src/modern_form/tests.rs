//! Tests of the modern form.
