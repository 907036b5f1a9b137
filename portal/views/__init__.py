"""The portal's views, one module and one blueprint per page group (pages, submit,
followup); portal.app registers each."""
