DROP TABLE rag_snapshots;
