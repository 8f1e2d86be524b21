ALTER TABLE organisations DROP COLUMN host_icb_nurse_email;
