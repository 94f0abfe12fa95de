//! The standard disclosure catalogue (基层政务公开标准目录): entries, import and export.
