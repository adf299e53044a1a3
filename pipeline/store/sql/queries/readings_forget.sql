-- Removes the readings of the batches {batches} (an interrupted import rolled back, so that
-- importing the file again writes it whole). Waits for the mutation.
ALTER TABLE {db:Identifier}.readings
DELETE WHERE batch_id IN {batches:Array(String)}
SETTINGS mutations_sync = 2
