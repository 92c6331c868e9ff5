-- Whether downloads answer 307 to a presigned URL of the storage (S3) instead of streaming.
ALTER TABLE repositories ADD COLUMN redirect_downloads BIGINT NOT NULL DEFAULT 0;
