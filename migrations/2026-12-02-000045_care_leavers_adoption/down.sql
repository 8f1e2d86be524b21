DROP INDEX children_sealed;
ALTER TABLE children DROP COLUMN sealed_on;
DROP INDEX health_obligations_open;
DROP TABLE health_obligations;
