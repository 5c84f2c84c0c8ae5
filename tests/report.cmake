# deltakern report (tests/cli/report.sh): pages from a diff of the bundled
# photos, a short bench and a comparison, checked against their result files;
# bad results refused with one line and no page. Then each page in headless
# Chromium (tests/tools/browser_check.py): no console error, no request that
# leaves the file, a screenshot with drawn plots, sorting tables, no sideways
# scrolling at phone width. Screenshots: build/tests/report_work/*.png.
set(DK_REPORT_WORK ${CMAKE_CURRENT_BINARY_DIR}/report_work)
add_test(NAME cli.report COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/report.sh $<TARGET_FILE:deltakern_cli>
         ${PROJECT_SOURCE_DIR} ${DK_MODEL_DIR} ${DK_REPORT_WORK})
set_tests_properties(cli.report PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 900 DEPENDS e2e.mobilenet_v2
                     FIXTURES_SETUP report_pages)
foreach(page diff bench all)
  if(DK_SANITIZE)  # the pages are the same; the normal build opens them
    add_test(NAME browser.report.${page} COMMAND bash -c "echo 'SKIP: the normal build opens the pages in the browser'; exit 77")
  else()
    add_test(NAME browser.report.${page}
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/tools/browser_check.py ${DK_REPORT_WORK}/${page}.html
                   --screenshot ${DK_REPORT_WORK}/${page}.png --min-plots 2 --sort-selector table.sortable)
  endif()
  set_tests_properties(browser.report.${page} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                       FIXTURES_REQUIRED report_pages)
endforeach()
