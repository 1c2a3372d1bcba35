-- The bare PostgreSQL client of scripts/bench (SPEC §14): the rows of a first-time episode
-- watch, statement for statement as the server writes them, minus what only the domain needs
-- (binge sessions, season completions, the show's genres). 12 statements: BEGIN; the show of
-- the episode; the show's seasons and episodes (250 rows); the user/show advisory lock; the
-- user's progress in the show; the user's records of the show; insert the user (if new), the
-- record, its episode details, the progress (upsert) and one outbox event; COMMIT.
-- 100 users (u), a random episode (e) of the 250 seeded by seed.postgres.sql.
-- Run: pgbench -n -M prepared -f episode.pgbench.sql -c 16 -j 2 -T 15 DB
\set u random(1, 100)
\set e random(1, 250)
\set season (:e - 1) / 50 + 1
\set number (:e - 1) % 50 + 1
\set r1 random(1, 9223372036854775806)
\set r2 random(1, 9223372036854775806)
BEGIN;
SELECT s.id, s.title, s.status FROM episodes e JOIN shows s ON s.id = e.show_id
 WHERE e.id = ('00000000-0000-4000-8001-' || lpad(:e::text, 12, '0'))::uuid;
SELECT e.id, e.season_id, s.season_number, e.episode_number, e.title, e.runtime_minutes,
       e.air_date
  FROM episodes e JOIN seasons s ON s.id = e.season_id
 WHERE e.show_id = '00000000-0000-4000-8003-000000000001'
 ORDER BY s.season_number, e.episode_number;
SELECT pg_advisory_xact_lock(hashtextextended(
       ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid::text || '/'
       || '00000000-0000-4000-8003-000000000001', 0));
SELECT user_id, show_id, last_watched_season, last_watched_episode, last_watched_episode_id,
       last_watch_date, total_episodes_watched, is_completed, completion_date,
       last_activity_at, inactivity_reported_at, updated_at
  FROM show_progress
 WHERE user_id = ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid
   AND show_id = '00000000-0000-4000-8003-000000000001';
SELECT r.id, r.user_id, r.content_id, r.content_type, r.watch_date, r.viewing_platform,
       r.viewing_location, r.viewing_context, r.is_rewatch, r.viewing_duration,
       r.binge_session_id, r.binge_session_pinned, r.backfilled, r.created_at, e.show_id,
       e.season_number, e.episode_number
  FROM episode_viewing_records e JOIN viewing_records r ON r.id = e.id
 WHERE e.user_id = ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid
   AND e.show_id = '00000000-0000-4000-8003-000000000001'
 ORDER BY r.watch_date, r.id;
INSERT INTO users (id, created_at)
VALUES (('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid, now())
ON CONFLICT (id) DO NOTHING;
INSERT INTO viewing_records (id, user_id, content_id, content_type, watch_date,
       viewing_platform, viewing_location, viewing_context, is_rewatch, viewing_duration,
       binge_session_id, binge_session_pinned, backfilled, created_at)
VALUES ((lpad(to_hex(:r1::bigint), 16, '0') || lpad(to_hex(:r2::bigint), 16, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8001-' || lpad(:e::text, 12, '0'))::uuid, 'episode', now(),
       NULL, NULL, NULL, FALSE, NULL, NULL, FALSE, FALSE, now());
INSERT INTO episode_viewing_records (id, user_id, episode_id, show_id, season_number,
       episode_number, watch_date, platform, binge_session_id, viewing_duration, created_at)
VALUES ((lpad(to_hex(:r1::bigint), 16, '0') || lpad(to_hex(:r2::bigint), 16, '0'))::uuid,
       ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid,
       ('00000000-0000-4000-8001-' || lpad(:e::text, 12, '0'))::uuid,
       '00000000-0000-4000-8003-000000000001', :season::int, :number::int, now(), NULL, NULL, NULL,
       now());
INSERT INTO show_progress (id, user_id, show_id, last_watched_season, last_watched_episode,
       last_watched_episode_id, last_watch_date, total_episodes_watched, completed_seasons,
       is_completed, completion_date, last_activity_at, inactivity_reported_at, updated_at)
VALUES (gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid,
       '00000000-0000-4000-8003-000000000001', :season::int, :number::int,
       ('00000000-0000-4000-8001-' || lpad(:e::text, 12, '0'))::uuid, now(), 1, 0, FALSE,
       NULL, now(), NULL, now())
ON CONFLICT (user_id, show_id) DO UPDATE SET
       last_watched_season = excluded.last_watched_season,
       last_watched_episode = excluded.last_watched_episode,
       last_watched_episode_id = excluded.last_watched_episode_id,
       last_watch_date = excluded.last_watch_date,
       total_episodes_watched = show_progress.total_episodes_watched + 1,
       completed_seasons = excluded.completed_seasons,
       is_completed = excluded.is_completed, completion_date = excluded.completion_date,
       last_activity_at = excluded.last_activity_at,
       inactivity_reported_at = excluded.inactivity_reported_at,
       updated_at = excluded.updated_at;
INSERT INTO outbox (event_id, user_id, event_type, occurred_at, payload, next_attempt_at)
VALUES (gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'))::uuid,
       'EpisodeWatched', now(),
       json_build_object('eventType', 'EpisodeWatched', 'schemaVersion', 1,
           'userId', ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0')),
           'occurredAt', now(),
           'payload', json_build_object(
               'recordId', (lpad(to_hex(:r1::bigint), 16, '0') || lpad(to_hex(:r2::bigint), 16, '0'))::uuid,
               'episodeId', ('00000000-0000-4000-8001-' || lpad(:e::text, 12, '0')),
               'showId', '00000000-0000-4000-8003-000000000001',
               'seasonNumber', :season::int, 'episodeNumber', :number::int, 'watchDate', now(),
               'isRewatch', false, 'viewingDuration', 45, 'runtimeMinutes', 45,
               'genres', json_build_array('drama', 'crime'), 'platform', NULL,
               'bingeSessionId', NULL))::text,
       now());
END;
