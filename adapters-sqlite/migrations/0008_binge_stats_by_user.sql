-- The longest binge session of a period (SPEC §11: a maximum is read, not summed).
CREATE INDEX stats_binge_sessions_user_start ON stats_binge_sessions (user_id, start, episodes);
