"""Judge stage: labels for every output from every configured judge, through a cache."""
