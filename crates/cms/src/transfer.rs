//! Import and export of items as JSON Lines (migration from an old CMS).
