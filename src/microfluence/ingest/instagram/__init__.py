"""Instagram JSON: the files, their shapes as flat records, and the importer."""
