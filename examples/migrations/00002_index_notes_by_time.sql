-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY notes_created_at_idx ON notes (created_at);

-- +goose Down
DROP INDEX CONCURRENTLY notes_created_at_idx;
