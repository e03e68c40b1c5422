"""What a cell means: numbers as spreadsheets write them, column names, captions."""
