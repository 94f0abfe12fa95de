//! Topics (专题专栏): landing pages grouping items and columns.
