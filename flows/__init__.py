"""hoering: public consultation rounds (høringer) as Prefect flows.

``flows.core`` is the Prefect-free domain, ``flows.adapters`` the edge (mail, files, database),
``flows.services`` the use cases, and the modules directly in ``flows`` are the Prefect flows.
"""
