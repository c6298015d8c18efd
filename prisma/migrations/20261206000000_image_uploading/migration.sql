-- A PUT whose body is still streaming is UPLOADING, no longer UPLOADED: UPLOADED now means every byte is stored,
-- so a detection run never takes (or rejects) an upload in flight.
ALTER TYPE "ImageStatus" ADD VALUE 'UPLOADING' BEFORE 'UPLOADED';
