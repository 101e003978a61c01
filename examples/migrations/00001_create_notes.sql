-- +goose Up
CREATE TABLE notes (
    id bigserial PRIMARY KEY,
    body text NOT NULL CHECK (body <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE notes;
