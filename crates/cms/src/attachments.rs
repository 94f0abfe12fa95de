//! Attachments: content-addressed files under the data directory, type sniffed from content.
