-- The catalog of the bare PostgreSQL client (scripts/bench): one ended show of 5 seasons × 50
-- episodes (250), with fixed ids that episode.pgbench.sql computes from numbers:
--   show     00000000-0000-4000-8003-000000000001
--   season s 00000000-0000-4000-8002-00000000000s
--   episode e (1…250, in order) 00000000-0000-4000-8001-<e, 12 digits>
-- The tables are the server's own (`viewing-server migrate` runs first).
INSERT INTO shows (id, title, status)
VALUES ('00000000-0000-4000-8003-000000000001', 'Bare Show', 'ended');
INSERT INTO show_genres (show_id, position, genre)
VALUES ('00000000-0000-4000-8003-000000000001', 0, 'drama'),
       ('00000000-0000-4000-8003-000000000001', 1, 'crime');
INSERT INTO seasons (id, show_id, season_number)
SELECT ('00000000-0000-4000-8002-' || lpad(s::text, 12, '0'))::uuid,
       '00000000-0000-4000-8003-000000000001', s
FROM generate_series(1, 5) AS s;
INSERT INTO episodes (id, season_id, show_id, episode_number, title, runtime_minutes, air_date)
SELECT ('00000000-0000-4000-8001-' || lpad(e::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8002-' || lpad(((e - 1) / 50 + 1)::text, 12, '0'))::uuid,
       '00000000-0000-4000-8003-000000000001',
       (e - 1) % 50 + 1, 'Bare Show E' || e, 45, DATE '2015-01-01'
FROM generate_series(1, 250) AS e;
ANALYZE;
