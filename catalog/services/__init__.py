"""Every write to the catalog (CONVENTIONS 1). Import from the submodules:
`catalog.services.products`, `.stock`, `.categories`, `.images`, `.csv_io`, `.projects`."""
