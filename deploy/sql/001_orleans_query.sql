-- MtActors schema, part 1: the table Orleans' ADO.NET providers read their SQL from.
--
-- Every Orleans ADO.NET provider (clustering, persistence) starts by running
-- "SELECT QueryKey, QueryText FROM OrleansQuery" and then only executes the texts it finds there,
-- with named parameters (@DeploymentId, @GrainIdN0, ...). The table name and its two columns are
-- therefore fixed by Orleans; the query texts in 002 and 003 are this project's own.
--
-- Every script in deploy/sql is safe to apply more than once (IF NOT EXISTS, ON CONFLICT DO UPDATE):
-- the silo applies them at start through SchemaMigrator, which also records them in
-- mtactors_schema_migrations and serialises concurrent starts with an advisory lock.

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64) NOT NULL,
    querytext text        NOT NULL,
    CONSTRAINT pk_orleansquery PRIMARY KEY (querykey)
);
