-- A server export's file may be gzip-compressed ('gzip'); NULL when it is stored as written.
ALTER TABLE exports ADD COLUMN compression TEXT;
