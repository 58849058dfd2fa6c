"""The Slack channel's own words (controls and App Home), in the languages of the flow's catalogs."""
