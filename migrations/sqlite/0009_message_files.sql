-- Attachments of messages left on the public form (PDF, JPEG, PNG, DOCX, XLSX; at most 3,
-- 5 MB each). Stored with the message in one transaction; shown to staff only.
CREATE TABLE msg_files (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES msg_messages(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX msg_files_message ON msg_files(message_id);
