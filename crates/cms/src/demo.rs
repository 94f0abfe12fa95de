//! Demo content for the site group, built from the government work report corpus.
