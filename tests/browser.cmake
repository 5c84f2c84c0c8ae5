# The report pages in a real browser: tests/tools/browser_check.py loads
# pages in headless Chromium (networking off) and fails on console errors,
# failed requests, blank screenshots, empty plots, sideways scrolling at
# phone width and tables that do not sort; its selftest feeds it one good
# page and one page per fault. SKIPPED with the reason where Chromium cannot
# start. Screenshots stay in browser_check_work/ for a look.
if(DK_SANITIZE)
  # no deltakern code runs here; the normal build runs this test
  add_test(NAME tools.browser_check COMMAND bash -c "echo 'SKIP: no deltakern code in the browser check; the normal build runs it'; exit 77")
else()
  add_test(NAME tools.browser_check
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tools/browser_check_selftest.py
                   ${CMAKE_CURRENT_BINARY_DIR}/browser_check_work)
endif()
set_tests_properties(tools.browser_check PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
