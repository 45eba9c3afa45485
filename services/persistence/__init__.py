"""Tables, the database engine, the unit of work, kept keys and migrations: the bottom layer."""
