"""The console's views, one module and one blueprint per page group (auth, inbox, cases,
admin); reviewer.app registers each, as portal.app does the portal's."""
