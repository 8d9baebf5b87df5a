-- MtActors schema, part 3: grain state (ADO.NET grain storage provider, Orleans 10.4).
--
-- Contract (what Microsoft.Orleans.Persistence.AdoNet 10.4.2 reads from OrleansQuery):
--   ReadFromStorageKey -> columns "PayloadBinary" (bytea) and "Version" (int), zero or one row;
--   WriteToStorageKey  -> one column "NewGrainStateVersion": the new version on success; the old
--                         version (or NULL for a first insert) tells the provider the write lost
--                         a race and it throws InconsistentStateException;
--   ClearStorageKey / DeleteStorageKey -> first column of the first row: a value different from
--                         the caller's version on success, no row when the version did not match.
--   Parameters: @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString (the state
--   name, e.g. 'session'), @GrainIdExtensionString (NULL when the key has no extension), @ServiceId,
--   @GrainStateVersion (the ETag; NULL when the grain never read a row), @PayloadBinary.
--
-- Differences from the upstream Orleans scripts, on purpose:
--   * a primary key on the natural key of a state row, so a duplicate row cannot exist (upstream has
--     only a non-unique hash index, and two rows for one grain make every later read throw);
--     the hash parameters are not needed and not stored;
--   * no NULL-payload tombstones: payloadbinary is NOT NULL and both ClearStorageKey and
--     DeleteStorageKey delete the row. MtActors always runs with DeleteStateOnClear = true;
--   * plain statements instead of stored functions.

CREATE TABLE IF NOT EXISTS grain_state
(
    serviceid              varchar(150) NOT NULL,
    graintypestring        varchar(512) NOT NULL,   -- the state name ("session", "authkey")
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    grainidextensionstring varchar(512) NOT NULL DEFAULT '',  -- '' = the key has no extension
    payloadbinary          bytea        NOT NULL,
    version                integer      NOT NULL,
    modifiedon             timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT pk_grain_state
        PRIMARY KEY (serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
);

INSERT INTO orleansquery (querykey, querytext) VALUES

('ReadFromStorageKey', $q$
SELECT payloadbinary AS "PayloadBinary", version AS "Version"
FROM grain_state
WHERE serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring = COALESCE(CAST(@GrainIdExtensionString AS varchar), '');
$q$),

-- With a version: compare-and-swap on it. Without one: insert, unless a row already exists.
('WriteToStorageKey', $q$
WITH updated AS (
    UPDATE grain_state
    SET payloadbinary = @PayloadBinary, version = version + 1, modifiedon = now()
    WHERE CAST(@GrainStateVersion AS integer) IS NOT NULL
      AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
      AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
      AND grainidextensionstring = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
      AND version = CAST(@GrainStateVersion AS integer)
    RETURNING version
), inserted AS (
    INSERT INTO grain_state (serviceid, graintypestring, grainidn0, grainidn1,
                             grainidextensionstring, payloadbinary, version)
    SELECT @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
           COALESCE(CAST(@GrainIdExtensionString AS varchar), ''), @PayloadBinary, 1
    WHERE CAST(@GrainStateVersion AS integer) IS NULL
    ON CONFLICT ON CONSTRAINT pk_grain_state DO NOTHING
    RETURNING version
)
SELECT COALESCE((SELECT version FROM updated), (SELECT version FROM inserted),
                CAST(@GrainStateVersion AS integer)) AS "NewGrainStateVersion";
$q$),

('DeleteStorageKey', $q$
DELETE FROM grain_state
WHERE serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
  AND version = CAST(@GrainStateVersion AS integer)
RETURNING version + 1 AS "NewGrainStateVersion";
$q$),

-- No tombstones in this schema: clearing deletes the row as well.
('ClearStorageKey', $q$
DELETE FROM grain_state
WHERE serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring = COALESCE(CAST(@GrainIdExtensionString AS varchar), '')
  AND version = CAST(@GrainStateVersion AS integer)
RETURNING version + 1 AS "NewGrainStateVersion";
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
