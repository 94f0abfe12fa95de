-- Photo updates of a live interview: the photo itself stays in itv_entries.photo (with
-- its sniffed photo_type); these columns add what the public page needs to show it —
-- the alternative text for screen readers (required with a photo), an optional caption
-- and the pixel size read from the file, so the page reserves the space before it loads.
ALTER TABLE itv_entries ADD COLUMN photo_alt TEXT NOT NULL DEFAULT '';
ALTER TABLE itv_entries ADD COLUMN photo_caption TEXT NOT NULL DEFAULT '';
ALTER TABLE itv_entries ADD COLUMN photo_width BIGINT NOT NULL DEFAULT 0;
ALTER TABLE itv_entries ADD COLUMN photo_height BIGINT NOT NULL DEFAULT 0;
