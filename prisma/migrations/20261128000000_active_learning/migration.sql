-- Confident verdicts picked for review by uncertainty and diversity at the end of a run.
-- The new value is not used in this transaction (Postgres forbids that before commit).
ALTER TYPE "ReviewReason" ADD VALUE 'ACTIVE_LEARNING';
