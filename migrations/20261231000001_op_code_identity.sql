-- Issue 21 (bench #12): who the person was when a code was issued (username, name, trusted
-- email, groups; JSON), so that the code exchange answers with it instead of reading the
-- user again a moment later. NULL for a code issued before: the exchange reads the user.
ALTER TABLE op_codes ADD COLUMN identity TEXT;
