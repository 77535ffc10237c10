# The standard loaders training harnesses use, on what `r2s generate` writes in the HDF5 layouts (issue 17):
# robomimic 0.3.0's SequenceDataset and get_dataset_info.py on robomimic output, ACT's EpisodicDataset/load_data
# (tests/fixtures/act/) on ALOHA output. They run Python in the cached clients environment
# (scripts/setup_python_env.sh clients) and render cameras, so all of them are slow.
r2s_add_test(robomimic_clients_generate_test SOURCES robomimic_clients_generate_test.cc
             LABELS "amplify;robomimic;clients" SLOW "." VULKAN)
r2s_add_test(act_clients_generate_test SOURCES act_clients_generate_test.cc LABELS "amplify;aloha;clients" SLOW "."
             VULKAN)
# The filter keys (mask/<filter>) of synthetic robomimic datasets, through the writer and through generate + merge.
r2s_add_test(robomimic_filters_test SOURCES robomimic_filters_test.cc LABELS "episode;amplify;cli"
             SLOW "GenerateAndMerge")
