"""Global tables: replicas of a table in other regions kept in step through each replica's stream."""
