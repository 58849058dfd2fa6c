"""The terminal channel's own words, in the languages of the flow's catalogs."""
