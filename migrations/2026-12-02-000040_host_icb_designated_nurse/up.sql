-- The Designated Nurse for CLA of the ICB that covers a host area (another area a child is
-- placed in, out of area). An out-of-area request names its host area in `host_la`; when the
-- request holds no host ICB address of its own, the escalation ladder's
-- `host_icb_designated_nurse` recipient is the address held here for the organisation whose
-- code (or name) is that host area. Set in the admin console (`/admin/organisations`).
-- Only a local authority or a host provider stands for a host area; the address is checked
-- by the service (src/service/validate.rs) and, as a floor, here: one @ with text each side,
-- no spaces, at most 254 characters (RFC 5321).
ALTER TABLE organisations ADD COLUMN host_icb_nurse_email TEXT
    CHECK (host_icb_nurse_email IS NULL OR (
        kind IN ('local_authority', 'host_provider')
        AND length(host_icb_nurse_email) BETWEEN 3 AND 254
        AND host_icb_nurse_email LIKE '%_@_%'
        AND host_icb_nurse_email NOT LIKE '% %'));
