DROP TABLE kpi_published_entries;
DROP TABLE kpi_published_figures;
DROP TABLE kpi_publications;
