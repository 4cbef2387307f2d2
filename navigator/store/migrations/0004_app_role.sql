-- The role the application acts as, version 4.
-- Migrations run as the schema owner; the store's pooled connections then act as the NOLOGIN
-- group role navigator_app (SET ROLE, or a LOGIN role that is a member of it: see
-- navigator/store/postgis.py). navigator_app owns nothing, so it cannot ALTER, DISABLE
-- TRIGGER on or DROP TRIGGER from any table; on the audit log it may only INSERT and SELECT
-- (no UPDATE, DELETE or TRUNCATE), and on the other tables it has the DML the store needs.
-- Roles belong to the cluster, not the database: every Navigator schema in the cluster grants
-- to the same navigator_app.

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'navigator_app') THEN
    BEGIN
      CREATE ROLE navigator_app NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN
        NULL;  -- another database's migration created it meanwhile
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'navigator: role navigator_app does not exist and % may not create it',
          current_user
          USING HINT = 'As a superuser run: CREATE ROLE navigator_app NOLOGIN; '
                       'GRANT navigator_app TO ' || quote_ident(current_user) || ';';
    END;
  END IF;
  IF NOT pg_has_role(current_user, 'navigator_app', 'MEMBER') THEN
    EXECUTE format('GRANT navigator_app TO %I', current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO navigator_app', current_schema());
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE
  ON resources, beds, hotlines, teams, incidents, holds, assignments, users
  TO navigator_app;
GRANT SELECT, INSERT ON audit TO navigator_app;
GRANT SELECT ON schema_migrations TO navigator_app;
