//! Sources, the goose annotation parser, the planner and the runner of the migrate toolkit.
