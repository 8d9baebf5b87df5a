-- MtActors schema, part 2: Orleans cluster membership (ADO.NET clustering provider, Orleans 10.4).
--
-- Contract (what Microsoft.Orleans.Clustering.AdoNet 10.4.2 reads from OrleansQuery):
--   InsertMembershipVersionKey, InsertMembershipKey, UpdateMembershipKey, UpdateIAmAlivetimeKey,
--   MembershipReadRowKey, MembershipReadAllKey, GatewaysQueryKey, DeleteMembershipTableEntriesKey,
--   CleanupDefunctSiloEntriesKey. Parameters: @DeploymentId (the cluster id), @Address, @Port,
--   @Generation, @SiloName, @HostName, @Status, @ProxyPort, @SuspectTimes, @StartTime,
--   @IAmAliveTime, @Version. The three "Insert/Update" queries answer one boolean column; the read
--   queries return one row per silo plus the table version, and at least the version row even when
--   no silo row matches (a missing silo is a row whose StartTime is NULL).
--
-- Optimistic concurrency: membership_version.version is the table's ETag. Inserting or updating
-- a silo row first bumps the version with "WHERE version = @Version" (a row lock, so two silos racing
-- with the same ETag cannot both win) and only then touches the silo row, in one statement.

CREATE TABLE IF NOT EXISTS membership_version
(
    deploymentid varchar(150) NOT NULL,
    changedat    timestamptz  NOT NULL DEFAULT now(),
    version      integer      NOT NULL DEFAULT 0,
    CONSTRAINT pk_membership_version PRIMARY KEY (deploymentid)
);

CREATE TABLE IF NOT EXISTS membership
(
    deploymentid varchar(150) NOT NULL,
    address      varchar(45)  NOT NULL,
    port         integer      NOT NULL,
    generation   integer      NOT NULL,
    siloname     varchar(150) NOT NULL,
    hostname     varchar(150) NOT NULL,
    status       integer      NOT NULL,
    proxyport    integer      NULL,
    suspecttimes text         NULL,
    starttime    timestamptz  NOT NULL,
    iamalivetime timestamptz  NOT NULL,
    CONSTRAINT pk_membership PRIMARY KEY (deploymentid, address, port, generation),
    CONSTRAINT fk_membership_version FOREIGN KEY (deploymentid)
        REFERENCES membership_version (deploymentid) ON DELETE CASCADE
);

INSERT INTO orleansquery (querykey, querytext) VALUES

('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO membership_version (deploymentid)
    VALUES (@DeploymentId)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created);
$q$),

('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE membership_version
    SET version = version + 1, changedat = now()
    WHERE deploymentid = @DeploymentId AND version = @Version
    RETURNING deploymentid
), inserted AS (
    INSERT INTO membership (deploymentid, address, port, generation, siloname, hostname, status,
                            proxyport, suspecttimes, starttime, iamalivetime)
    SELECT b.deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           @ProxyPort, NULL, @StartTime, @IAmAliveTime
    FROM bumped b
    ON CONFLICT (deploymentid, address, port, generation) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted);
$q$),

('UpdateMembershipKey', $q$
WITH bumped AS (
    UPDATE membership_version
    SET version = version + 1, changedat = now()
    WHERE deploymentid = @DeploymentId AND version = @Version
    RETURNING deploymentid
), updated AS (
    UPDATE membership m
    SET status = @Status, suspecttimes = CAST(@SuspectTimes AS text), iamalivetime = @IAmAliveTime
    FROM bumped b
    WHERE m.deploymentid = b.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM updated);
$q$),

('UpdateIAmAlivetimeKey', $q$
UPDATE membership
SET iamalivetime = @IAmAliveTime
WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation;
$q$),

('MembershipReadRowKey', $q$
SELECT v.deploymentid AS "DeploymentId", m.address AS "Address", m.port AS "Port",
       m.generation AS "Generation", m.siloname AS "SiloName", m.hostname AS "HostName",
       m.status AS "Status", m.proxyport AS "ProxyPort", m.suspecttimes AS "SuspectTimes",
       m.starttime AS "StartTime", m.iamalivetime AS "IAmAliveTime", v.version AS "Version"
FROM membership_version v
LEFT JOIN membership m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId;
$q$),

('MembershipReadAllKey', $q$
SELECT v.deploymentid AS "DeploymentId", m.address AS "Address", m.port AS "Port",
       m.generation AS "Generation", m.siloname AS "SiloName", m.hostname AS "HostName",
       m.status AS "Status", m.proxyport AS "ProxyPort", m.suspecttimes AS "SuspectTimes",
       m.starttime AS "StartTime", m.iamalivetime AS "IAmAliveTime", v.version AS "Version"
FROM membership_version v
LEFT JOIN membership m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId;
$q$),

('GatewaysQueryKey', $q$
SELECT address AS "Address", proxyport AS "ProxyPort", generation AS "Generation"
FROM membership
WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0;
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM membership_version WHERE deploymentid = @DeploymentId;
$q$),

-- Silo rows that stopped sending "I am alive" before @IAmAliveTime and are not Active (3).
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM membership
WHERE deploymentid = @DeploymentId AND iamalivetime < @IAmAliveTime AND status <> 3;
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
