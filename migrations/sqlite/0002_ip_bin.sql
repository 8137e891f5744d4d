-- The IP address as a sortable key, so "IP is in CIDR range" becomes `ip_bin BETWEEN lo AND hi`:
-- a family byte (4 or 6) and the address big-endian (4 or 16 bytes). Written by the writer for new
-- rows; rows stored before this migration are filled in by the store when it opens (computing the
-- key needs address parsing that SQL does not have). PostgreSQL needs no such column: it casts the
-- text to `inet`.
ALTER TABLE events ADD COLUMN ip_bin BLOB;
